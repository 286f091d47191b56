require "fileinto";
if header :is ["to", "cc"] ["alice@example.com", "carol@example.com"] { fileinto "Team"; }
