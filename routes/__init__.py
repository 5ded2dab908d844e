"""A rally's route and the game's rules: model, geometry, validation, ordering, interchange."""
