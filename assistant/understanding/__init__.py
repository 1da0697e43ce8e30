"""Reading a message: text kinds, spelling, numbers, phrases, references and the LLM's choices.

It returns facts about the text (an Extraction, a Reading, notices as coded facts) and never
imports the dialogue, the prompt writer or the music wing."""
