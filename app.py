"""MusicBrief: until the web UI lands, `python app.py` starts the terminal chat."""
import sys

from assistant.cli import main

if __name__ == "__main__":
    sys.exit(main(["chat", *sys.argv[1:]]))
