"""Applicant tracking systems (issue 12): one module per vendor behind bot.integrations.ats.

Adapters translate; what to sync and when is decided in bot/flows/ (the ATS sync flow), and
every call to a vendor leaves through the outbox.
"""
