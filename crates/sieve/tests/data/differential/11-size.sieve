require "fileinto";
if size :over 300 { fileinto "Big"; } elsif size :under 100 { fileinto "Tiny"; } else { keep; }
