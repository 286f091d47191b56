require ["envelope", "reject"];
if envelope :domain :is "from" "spam.example" { reject "go away"; } else { discard; }
