"""The Streamlit UI of notes-kb; it reaches the knowledge base only through the HTTP API (ui/client.py)."""
