"""hirebot's own web pages (served by the runtime's aiohttp app): the share page."""
