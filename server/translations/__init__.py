"""The server's texts, one JSON file per area; server/i18n.py reads them (this makes the folder a
package, so that its files travel as package data)."""
