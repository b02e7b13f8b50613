"""Digital City (数字城市政务平台): one platform for a city's e-government."""

__version__ = "0.1.0"
