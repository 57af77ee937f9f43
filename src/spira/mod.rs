//! Spira REST v7 client (issue 4 builds it).
