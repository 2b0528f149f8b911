"""The main page: the map, its timeline and the side panels."""
