"""hermes-browse: a terminal browser for a Hermes agent's session history."""

__version__ = "0.1.0"
