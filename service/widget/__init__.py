"""The export-advisor widget's server side: public search and leads."""
