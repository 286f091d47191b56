require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex:72 65 70}" { fileinto "Enc"; }
