require ["envelope", "fileinto"];
if envelope :localpart :is "to" "alice" { fileinto "Alice"; }
