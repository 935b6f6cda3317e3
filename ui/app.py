"""notes-kb's Streamlit entry: `streamlit run ui/app.py` (or `kb ui`); it reaches the notes through KB_API_URL."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on sys.path, not the project; needed only when notes-kb is not pip-installed.
_PROJECT = str(Path(__file__).resolve().parent.parent)
if _PROJECT not in sys.path:
    sys.path.append(_PROJECT)

import streamlit as st  # noqa: E402

from ui.render import CSS  # noqa: E402

st.set_page_config(page_title="notes-kb", page_icon=":material/menu_book:", layout="wide")

pages = [
    st.Page("views/ask.py", title="Ask", icon=":material/question_answer:", url_path="ask", default=True),
    st.Page("views/browse.py", title="Browse", icon=":material/menu_book:", url_path="browse"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("views/index.py", title="Index", icon=":material/database:", url_path="index"),
]
page = st.navigation(pages, position="top")
st.html(CSS)
page.run()
