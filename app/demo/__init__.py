"""Demo data: three hours of Binance and Bybit trades and order books in their real wire
shapes (`trades`, `books`), generated and ingested on first run (`loader`)."""
