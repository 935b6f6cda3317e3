"""The HTTP API: a thin FastAPI layer over kb.KnowledgeBase (create it with api.app.create_app)."""
