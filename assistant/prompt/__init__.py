"""The brief written as a MusicGen prompt, with the windows a long piece is generated in."""
