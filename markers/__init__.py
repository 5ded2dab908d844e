"""Places and proofs: geodesy, geofences, spatial index, signed QR tokens, QR rendering."""
