"""The Telegram front end (python-telegram-bot): translates updates to core calls and back."""
