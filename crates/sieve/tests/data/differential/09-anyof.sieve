require "fileinto";
if anyof (exists "x-spam-flag", header :is "x-priority" "1") { fileinto "Flagged"; }
