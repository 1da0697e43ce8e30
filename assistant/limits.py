"""Every limit of the app in one place, each enforced where it applies and explained when hit."""
from assistant.brief import BPM_MAX, BPM_MIN, DURATION_MAX_S, DURATION_MIN_S, MAX_ITEMS, MAX_WORDS

MAX_MESSAGE_CHARS = 2000  # longer messages are cut, and the reply says so
MAX_TAKES = 4  # takes per round
MAX_CONCURRENT_GENERATIONS = 2  # Gradio queue concurrency
MAX_QUEUE = 32  # requests waiting beyond that are refused with a message
MAX_FILES_PER_CONVERSATION = 48  # oldest rounds' WAVs go first (a kept take stays)
MAX_TOTAL_MB = 2000  # all conversations together; oldest conversations' files go first
GENERATION_TIMEOUT_S = 900  # a stuck generation is cancelled after this long
MAX_LISTED_ITEMS = 10  # how many refused items a notice names before "and N more"

__all__ = [
    "BPM_MAX", "BPM_MIN", "DURATION_MAX_S", "DURATION_MIN_S", "MAX_ITEMS", "MAX_WORDS", "MAX_MESSAGE_CHARS",
    "MAX_TAKES", "MAX_CONCURRENT_GENERATIONS", "MAX_QUEUE", "MAX_FILES_PER_CONVERSATION", "MAX_TOTAL_MB",
    "GENERATION_TIMEOUT_S", "MAX_LISTED_ITEMS",
]
