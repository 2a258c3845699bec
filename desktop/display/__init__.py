"""The large display (大屏): a kiosk wall view of the district, see ``desktop.display.window``."""
