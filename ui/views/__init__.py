"""The pages of the UI, each a script that st.navigation in ui/app.py runs."""
