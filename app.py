"""MusicBrief web app (Gradio): `python app.py`. Settings come from MUSICBRIEF_* variables."""
from webui.app import main

if __name__ == "__main__":
    main()
