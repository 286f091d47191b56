require "fileinto";
if address :domain :is "from" "example.org" { fileinto "Org"; } else { fileinto "Other"; }
