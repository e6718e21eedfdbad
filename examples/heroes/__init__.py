"""The reference service: the seed's Heroes, Teams and Missions (many-to-many with a role)."""
