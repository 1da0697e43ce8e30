"""The app layer: the session (the one writer of a conversation), services, config, CLI, refine.

The web app talks to this layer and the kernel only."""
