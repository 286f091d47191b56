require ["variables", "fileinto"];
if header :matches "from" "*@*" { set :lower "dom" "${2}"; fileinto "From/${dom}"; }
