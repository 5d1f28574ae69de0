"""The sandbox: a real HTTP server that follows the enmacc CONNECT contract, with a simulated market."""
