"""Personal data: what every service shares to answer for the data it holds about a person."""
