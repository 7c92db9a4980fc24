"""Risk studies: sample disruptions, evaluate them, analyse the outcomes."""
