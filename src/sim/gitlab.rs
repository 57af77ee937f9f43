//! Simulator of GitLab REST v4 (issue 3 builds it).
