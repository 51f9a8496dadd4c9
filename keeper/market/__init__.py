"""A local market for localnets: a price feeder writing the token's and the
USD/ZAR feeds through mock_pyth, a sales simulator posting signed revenue
webhooks to the keeper, and a seller filling open buy-orders at the oracle
price. It refuses to run against a real cluster (`guard`)."""
