"""The conversation as a pure function: state and a message in, a new state and a reply out.

Questions, answers, brief updates, gap filling and rounds live here; the app layer runs it."""
