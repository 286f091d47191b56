require "fileinto";
if allof (not exists "list-id", address :contains "to" "example") { fileinto "Direct"; }
