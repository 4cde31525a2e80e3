"""Telegram side of the sandbox: a Bot API emulator plus scripted candidates.

Why: lets the real python-telegram-bot stack run end-to-end in tests and demos without
api.telegram.org. Point PTB at it with
``ApplicationBuilder().token(sb.token).base_url(sb.api_url).base_file_url(sb.file_url)``.
The implementation lives in :mod:`bot.sandbox.telegram_api` (server) and
:mod:`bot.sandbox.telegram_candidate` (user simulation).
"""

from bot.sandbox.telegram_api import (
    GET_FILE_LIMIT,
    ApiCall,
    BotApiError,
    SentMessage,
    StoredFile,
    TelegramSandbox,
)
from bot.sandbox.telegram_candidate import SandboxCandidate

__all__ = [
    "GET_FILE_LIMIT",
    "ApiCall",
    "BotApiError",
    "SandboxCandidate",
    "SentMessage",
    "StoredFile",
    "TelegramSandbox",
]
