"""What programs and AI assistants read and rate: the JSON API's models (``models``), the
checks on its parameters (``params``), its write token (``tokens``) and the store as both
``/api/v1/`` and the MCP server show it (``reader``).

Kept free of imports here: ``config`` reads the token check without loading the rest.
"""
