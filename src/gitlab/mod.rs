//! GitLab REST v4 client (issue 3 builds it).
