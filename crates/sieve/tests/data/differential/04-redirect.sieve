redirect "boss@example.net";
