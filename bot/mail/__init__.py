"""Email: the SMTP adapter behind ``bot.flows.ports.MailChannel``."""
