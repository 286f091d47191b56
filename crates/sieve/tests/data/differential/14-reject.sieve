require "reject";
if header :contains "subject" "report" { reject "no reports here"; }
