"""Every limit of the app in one place, each enforced where it applies and explained when hit.

It imports nothing from the project: the brief's schema takes its bounds from here."""

MAX_WORDS = 5  # words in one slot value: MusicGen prompts degrade with rambling text
THEME_MAX_WORDS = 12  # a song's subject, in the user's words
MAX_ITEMS = 8  # values in one list slot (moods, instruments, sections)
BPM_MIN, BPM_MAX = 40, 220
DURATION_MIN_S, DURATION_MAX_S = 1.0, 180.0
DEFAULT_DURATION_S = 10.0  # a take's length when nobody named one
SEED_MAX = 2**32 - 1  # seeds are 32-bit: what torch and numpy accept
FRESH_SEED_LIMIT = 2**31  # fresh seeds (derived, or a session's base) stay below this: positive in every int32 API
PROMPT_MAX_WORDS = 60  # a MusicGen prompt: longer ones are cut at a phrase
KEEP_FILES_MINUTES = 120.0  # a take's WAV older than this may go, oldest first (a kept take stays)

GENRE_MAX_WORDS = 3  # the genre slot holds one named style ("melodic death metal"); more reads as noise
MAX_INFLUENCES = 2  # further named genres, rendered as "with trap and soul influences"
SUBJECT_MAX_WORDS = 40  # a message with no command and no question is the song's subject ("mickey mouse")
SUBJECT_MOOD_MARGIN = 0.1  # the LLM's mood for a bare title must lead the next mood by this (log-likelihood)
LYRIC_MAX_MOODS = 2  # moods read from pasted lyrics when the description names none
LYRIC_MIN_LINES = 4  # a message of this many lines (or with a [Verse] tag) is read as a pasted song
NAME_MAX_WORDS = 4  # a capitalised name after "in the style of" is one unit of at most this many words
MAX_MESSAGE_CHARS = 2000  # longer messages are cut, and the reply says so
NUMBER_MAX_DIGITS = 10  # before or after the point: a longer number is refused in words (a seed has at most 10)
MAX_COMBINING_MARKS = 2  # a run of combining marks on one letter is cut to this (none stay on an ASCII letter)
CONVERSATION_FILE_MAX_BYTES = 1_000_000  # a scripted conversation file; larger ones are refused before parsing
MAX_TAKES = 4  # takes per round
MAX_QUESTIONS_PER_SONG = 2  # the README's promise: after two questions, the brief is filled and played
MUSICGEN_WINDOW_S = 30.0  # one MusicGen generation; longer pieces continue section by section
FALLBACK_BPM = 100  # the tempo of a brief with no tempo and no known genre
MIN_SECTION_S = 6.0  # the shortest window a multi-section piece is generated in
DECODE_BUCKETS = (64, 128, 256, 384, 512, 768, 1024, 1504)  # K/V lengths with one CUDA graph each
DECODE_CHECK_EVERY = 25  # graph replays between host syncs (tokens out, progress, cancel): 0.5 s of audio
TEXT_BUCKETS = (32, 64, 128)  # prompt token lengths the text is padded to (past the last: a multiple of it), so few graph shapes
GRAPH_RETRY_S = 600.0  # a batch shape whose graph capture failed decodes eagerly this long, then graphs are tried again
GRAPH_POOL_MB = 4000  # GPU memory the CUDA-graph runners may hold (buffers); beyond it the least recently used idle ones go
MAX_CONCURRENT_GENERATIONS = 2  # Gradio queue concurrency
MAX_BATCHED_GENERATIONS = 8  # rounds in flight at once where the model batches requests together (a GPU)
BATCH_WINDOW_S = 0.03  # requests arriving within this of a batch's first join it
MAX_BATCH_TAKES = 16  # takes in one batched generation
TAKE_BUCKETS = (1, 2, 4, 8, 16)  # a batch's takes are padded up to one of these on a GPU, so few graph shapes
MAX_WAITING_TURNS = 4  # turns one conversation may have waiting behind its running one
MELODY_MAX_S = 30.0  # MusicGen-melody reads at most this much of a clip's chroma; longer clips are cut, with a notice
CLIP_MAX_BYTES = 5_000_000  # an uploaded or recorded clip (30 s of 16-bit stereo WAV at 44.1 kHz is 5.3 MB: use flac/mp3)
MAX_REQUEST_BYTES = 256_000  # a request body, refused before it is parsed (uploads may add CLIP_MAX_BYTES per file)
MAX_FILES_PER_UPLOAD = 2  # files in one upload request (one clip per message); more are refused before they land
CLIP_DECODE_TIMEOUT_S = 10.0  # decoding a clip that takes longer is refused
CLIPS_KEPT = 2  # clips one conversation keeps in memory (30 s mono at 32 kHz: 3.8 MB each)
CONTINUATION_CONTEXT_S = 10.0  # of a take's (or clip's) own tokens a continuation starts from; audiocraft keeps 12 of 30
CONTINUATION_MIN_CONTEXT_S = 3.0  # a long piece's window that fills the model's window still hears this much of the last
EXTEND_DEFAULT_S = 10.0  # "continue it" with no length: this many seconds more
MAX_QUEUE = 32  # requests waiting beyond that are refused with a message
UPLOADS_KEPT_S = 1800  # uploaded clips are removed from Gradio's cache after this long (a clip in use is in memory)
MAX_FILES_PER_CONVERSATION = 48  # oldest rounds' WAVs go first (a kept take stays)
MAX_TOTAL_MB = 2000  # all conversations together; oldest conversations' files go first
MAX_KEPT_PER_CONVERSATION = 8  # kept takes one conversation protects from the size limits; an older keep goes by age and size
DISK_RESERVE_MB = 0.25  # left free on the outputs disk: before a round writes, old takes go to keep it
GENERATION_TIMEOUT_S = 900  # a stuck generation is cancelled after this long
MAX_HISTORY_MESSAGES = 80  # chat messages sent back to a browser or API client on each turn
MAX_LISTED_ITEMS = 10  # how many refused items a notice names before "and N more"
REFERENCE_MAX_WORDS = 6  # longest reference name matched ("godspeed you black emperor")
REFERENCE_FUZZY_MIN_LETTERS = 6  # shorter names must be spelt right: "drake" is not "brake"
REFERENCE_FUZZY_CUTOFF = 0.86  # difflib ratio for a typo of a reference name ("radiohed")
REFERENCE_MAX_MOODS = 2  # moods a reference adds to an empty brief
SPELLING_MIN_LETTERS = 5  # shorter words are never "corrected"
TEMPO_WORD_MIN_CHANGE = 0.15  # "slow"/"fast" after a round moves the tempo at least this share
SPELLING_LONG_WORD = 8  # from this length a typo may be two edits ("saxaphone"); shorter words one
SPELLING_MAX_EDITS_LONG = 2
REMIX_SOURCE_S = 900.0  # seconds of unmixed take audio kept in memory for instant mix edits (~115 MB)
MAX_CONVERSATIONS_KEPT = 200  # conversations the web app can restore after a page reload
PROGRESS_EVERY_S = 0.25  # how often the chat's progress line is redrawn while generating
BPM_ANALYSIS_S = 30.0  # the tempo of a take is measured on at most this much of its middle (a 3-minute take: 1 s, not 7)
PENDING_AFTER_S = 0.3  # a turn still running after this shows the user's message and a progress line

__all__ = [
    "GENRE_MAX_WORDS", "MAX_INFLUENCES", "THEME_MAX_WORDS", "LYRIC_MIN_LINES", "LYRIC_MAX_MOODS", "SUBJECT_MAX_WORDS", "SUBJECT_MOOD_MARGIN", "NAME_MAX_WORDS",
    "BPM_MAX", "BPM_MIN", "DURATION_MAX_S", "DURATION_MIN_S", "DEFAULT_DURATION_S", "SEED_MAX", "FRESH_SEED_LIMIT", "PROMPT_MAX_WORDS", "KEEP_FILES_MINUTES", "MAX_ITEMS", "MAX_WORDS", "MAX_MESSAGE_CHARS", "NUMBER_MAX_DIGITS", "MAX_COMBINING_MARKS", "CONVERSATION_FILE_MAX_BYTES",
    "MAX_TAKES", "MAX_QUESTIONS_PER_SONG", "MUSICGEN_WINDOW_S", "DECODE_BUCKETS", "DECODE_CHECK_EVERY", "TEXT_BUCKETS", "GRAPH_RETRY_S", "GRAPH_POOL_MB", "MAX_CONCURRENT_GENERATIONS", "MAX_BATCHED_GENERATIONS", "BATCH_WINDOW_S", "MAX_BATCH_TAKES", "TAKE_BUCKETS", "MAX_QUEUE", "MAX_WAITING_TURNS", "MELODY_MAX_S", "CLIP_MAX_BYTES", "MAX_REQUEST_BYTES", "MAX_FILES_PER_UPLOAD", "CLIP_DECODE_TIMEOUT_S", "CLIPS_KEPT", "EXTEND_DEFAULT_S", "CONTINUATION_CONTEXT_S", "CONTINUATION_MIN_CONTEXT_S", "UPLOADS_KEPT_S", "MAX_FILES_PER_CONVERSATION", "MAX_TOTAL_MB", "MAX_KEPT_PER_CONVERSATION", "DISK_RESERVE_MB",
    "GENERATION_TIMEOUT_S", "MAX_HISTORY_MESSAGES", "MAX_LISTED_ITEMS", "REFERENCE_MAX_WORDS", "REFERENCE_FUZZY_MIN_LETTERS",
    "REFERENCE_FUZZY_CUTOFF", "REFERENCE_MAX_MOODS", "TEMPO_WORD_MIN_CHANGE", "SPELLING_MIN_LETTERS", "SPELLING_LONG_WORD", "SPELLING_MAX_EDITS_LONG",
    "FALLBACK_BPM", "MIN_SECTION_S", "REMIX_SOURCE_S", "MAX_CONVERSATIONS_KEPT", "PROGRESS_EVERY_S", "PENDING_AFTER_S", "BPM_ANALYSIS_S",
]
