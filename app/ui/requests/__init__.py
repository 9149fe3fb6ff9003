"""The Requests page: the register of data subject requests with the Art. 12(3) clock (a thin layer on app.dsr)."""
