"""The MCP server for AI assistants: tools over the store (``tools``), their compact text
(``text``), and the server with its two transports, stdio and streamable HTTP (``server``).
"""
