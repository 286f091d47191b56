require "fileinto";
if header :matches "subject" "*[list-*]*" { fileinto "Lists"; stop; }
fileinto "Rest";
