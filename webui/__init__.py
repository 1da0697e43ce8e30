"""The Gradio front end: a translator from Sessions and TurnRecords to components (no dialogue logic)."""
