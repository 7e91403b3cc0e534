"""Entity and relation extraction, entity resolution, and graph stores."""
