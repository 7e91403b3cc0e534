"""The Streamlit web UI (calls the public API only)."""
