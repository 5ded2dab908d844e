"""Widgets of the app: the AR view, the map with its tile cache, the camera feed."""
