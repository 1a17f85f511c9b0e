"""Request and response bodies of the HTTP API (Pydantic), one module per noun like the routes."""
