"""Calendar formats: hirebot's meetings rendered for Google, Outlook and Apple calendars."""
