"""`termgate simulate`: labelled scenarios of honest and misusing integrations played through the
real gateway against the reference API, weeks of behaviour compressed into minutes by moving the
clock; `termgate detect report` scores the detectors' findings against the labels."""
